import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What DBeaver, DataGrip and IntelliJ ask a MySQL/MariaDB JDBC driver when
 * they open a database, then a query, a prepared query and a refused one:
 * `java -cp mariadb-java-client.jar MysqlMetadataProbe.java URL USER PASSWORD TABLE...`.
 * Prints every row of every answer; a call the gateway refuses prints
 * `ERROR <call>: <code> <message>` and the probe goes on.
 */
public class MysqlMetadataProbe {
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
      System.out.println("CATALOG " + c.getCatalog());
      DatabaseMetaData md = c.getMetaData();
      System.out.println("PRODUCT " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
      // null: the current database (nullCatalogMeansCurrent), which is the upstream database, whatever name the URL gave.
      String db = null;
      print("getCatalogs", () -> md.getCatalogs());
      print("getTables", () -> md.getTables(db, null, "%", new String[] {"TABLE", "VIEW"}));
      for (int i = 3; i < args.length; i++) {
        String t = args[i];
        print("getColumns " + t, () -> md.getColumns(db, null, t, "%"));
        print("getPrimaryKeys " + t, () -> md.getPrimaryKeys(db, null, t));
        print("getImportedKeys " + t, () -> md.getImportedKeys(db, null, t));
        print("getIndexInfo " + t, () -> md.getIndexInfo(db, null, t, false, true));
      }
      print("getProcedures", () -> md.getProcedures(db, null, "%"));
      print("sql_mode", () -> c.createStatement().executeQuery("SELECT @@sql_mode AS m"));
      print("select", () -> c.createStatement().executeQuery("SELECT id, item FROM orders ORDER BY id"));
      print("prepared", () -> {
        PreparedStatement ps = c.prepareStatement("SELECT item FROM orders WHERE id = ?");
        ps.setInt(1, 1);
        return ps.executeQuery();
      });
      print("delete", () -> {
        Statement s = c.createStatement();
        s.executeUpdate("DELETE FROM orders");
        return s.executeQuery("SELECT 'deleted'");
      });
    }
  }

  interface Call {
    ResultSet run() throws SQLException;
  }

  static void print(String name, Call call) {
    try (ResultSet rs = call.run()) {
      ResultSetMetaData m = rs.getMetaData();
      while (rs.next()) {
        StringBuilder row = new StringBuilder("ROW ").append(name).append(':');
        for (int i = 1; i <= m.getColumnCount(); i++) row.append(' ').append(m.getColumnLabel(i)).append('=').append(rs.getString(i));
        System.out.println(row);
      }
    } catch (SQLException e) {
      System.out.println("ERROR " + name + ": " + e.getErrorCode() + " " + e.getMessage());
    }
  }
}
