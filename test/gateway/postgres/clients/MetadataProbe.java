import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;

/**
 * What DBeaver, DataGrip and IntelliJ ask the PostgreSQL JDBC driver when
 * they open a database: run as `java -cp postgresql.jar MetadataProbe.java
 * URL USER PASSWORD TABLE...`. Prints every row of every answer; a call the
 * gateway refuses prints `ERROR <call>: <message>` and the probe goes on.
 */
public class MetadataProbe {
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
      DatabaseMetaData md = c.getMetaData();
      print("getSchemas", () -> md.getSchemas());
      print("getTables", () -> md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"}));
      for (int i = 3; i < args.length; i++) {
        String t = args[i];
        print("getColumns " + t, () -> md.getColumns(null, "public", t, "%"));
        print("getPrimaryKeys " + t, () -> md.getPrimaryKeys(null, "public", t));
        print("getImportedKeys " + t, () -> md.getImportedKeys(null, "public", t));
        print("getIndexInfo " + t, () -> md.getIndexInfo(null, "public", t, false, true));
      }
      print("getProcedures", () -> md.getProcedures(null, "public", "%"));
    }
  }

  interface Call {
    ResultSet run() throws SQLException;
  }

  static void print(String name, Call call) {
    try (ResultSet rs = call.run()) {
      ResultSetMetaData m = rs.getMetaData();
      int rows = 0;
      while (rs.next()) {
        StringBuilder row = new StringBuilder("ROW ").append(name).append(':');
        for (int i = 1; i <= m.getColumnCount(); i++) row.append(' ').append(m.getColumnLabel(i)).append('=').append(rs.getString(i));
        System.out.println(row);
        rows++;
      }
      System.out.println("OK " + name + " rows=" + rows);
    } catch (SQLException e) {
      System.out.println("ERROR " + name + ": " + e.getMessage());
    }
  }
}
